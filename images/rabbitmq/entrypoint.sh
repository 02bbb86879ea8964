#!/bin/bash
# Writes the default administrator from RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS (used by
# RabbitMQ only when it creates its database, i.e. on the first start with an empty volume),
# then runs the broker in the foreground as the rabbitmq user.
set -euo pipefail
user=${RABBITMQ_DEFAULT_USER:-guest}
pass=${RABBITMQ_DEFAULT_PASS:-guest}
vhost=${RABBITMQ_DEFAULT_VHOST:-/}
case "$user$pass$vhost" in *$'\n'*) echo "RABBITMQ_DEFAULT_* must be one line each" >&2; exit 1 ;; esac
umask 027
cat > /etc/rabbitmq/rabbitmq.conf <<CONF
# written by entrypoint.sh at container start
default_user = $user
default_pass = $pass
default_vhost = $vhost
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
# the default user may connect from other containers
loopback_users = none
log.console = true
log.console.level = info
log.file = false
management.tcp.port = 15672
CONF
chown rabbitmq:rabbitmq /etc/rabbitmq/rabbitmq.conf
mkdir -p /var/lib/rabbitmq /var/log/rabbitmq
chown rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
if [ "$#" -gt 0 ]; then exec "$@"; fi
exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server
