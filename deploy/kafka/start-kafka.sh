#!/bin/sh
# Start the Partner Hub's Kafka (the apache/kafka image, run as its own user).
#
# Writes the runtime configuration (deploy/kafka/server.properties plus what carries a secret
# or depends on the host), formats the data folder on first start with the admin's SCRAM
# credential (KRaft cannot create the first SCRAM user any other way), then runs the broker.
#
# Environment: KAFKA_CLUSTER_ID, KAFKA_ADMIN_PASSWORD (required); KAFKA_ADMIN_USER,
# KAFKA_EXTERNAL_HOST, KAFKA_EXTERNAL_PORT (optional). The admin's password is fixed at the first
# start: changing it later means changing the SCRAM credential first (see docs/deploy.md).
set -eu

template=${PARTNERHUB_KAFKA_TEMPLATE:-/opt/partnerhub/kafka/server.properties}
runtime=${PARTNERHUB_KAFKA_RUNTIME:-/tmp/partnerhub-kafka}
kafka_home=${KAFKA_HOME:-/opt/kafka}
admin_user=${KAFKA_ADMIN_USER:-hub-admin}
external_host=${KAFKA_EXTERNAL_HOST:-localhost}
external_port=${KAFKA_EXTERNAL_PORT:-9094}

fail() {
    echo "start-kafka: $*" >&2
    exit 64
}

[ -n "${KAFKA_CLUSTER_ID:-}" ] || fail "KAFKA_CLUSTER_ID is not set (see .env.example)"
[ -n "${KAFKA_ADMIN_PASSWORD:-}" ] || fail "KAFKA_ADMIN_PASSWORD is not set (see .env.example)"

# The password lands in JAAS settings and in the storage tool's --add-scram argument; characters
# that need no quoting in either keep both exact.
case "$KAFKA_ADMIN_PASSWORD" in
    *[!A-Za-z0-9._~-]*) fail "KAFKA_ADMIN_PASSWORD may hold only letters, digits and . _ ~ -" ;;
esac
[ "${#KAFKA_ADMIN_PASSWORD}" -ge 16 ] || fail "KAFKA_ADMIN_PASSWORD must be 16 characters or more"
case "$admin_user" in
    '' | *[!a-z0-9_-]*) fail "KAFKA_ADMIN_USER may hold only a-z, 0-9, _ and -" ;;
esac
case "$KAFKA_CLUSTER_ID" in
    *[!A-Za-z0-9_-]*) fail "KAFKA_CLUSTER_ID must be 22 base64url characters" ;;
esac
[ "${#KAFKA_CLUSTER_ID}" -eq 22 ] || fail "KAFKA_CLUSTER_ID must be 22 base64url characters"
case "$external_host" in
    '' | *[!A-Za-z0-9.-]*) fail "KAFKA_EXTERNAL_HOST must be a host name or an IPv4 address" ;;
esac
case "$external_port" in
    '' | *[!0-9]*) fail "KAFKA_EXTERNAL_PORT must be a port number" ;;
esac

data=$(sed -n 's/^log\.dirs=//p' "$template")
[ -n "$data" ] || fail "$template sets no log.dirs"

umask 077
mkdir -p "$runtime"
config="$runtime/server.properties"
scram="org.apache.kafka.common.security.scram.ScramLoginModule required"
plain="org.apache.kafka.common.security.plain.PlainLoginModule required"
password=$KAFKA_ADMIN_PASSWORD

{
    cat "$template"
    echo
    echo "# --- appended by start-kafka.sh ---"
    echo "advertised.listeners=INTERNAL://kafka:9092,EXTERNAL://$external_host:$external_port"
    echo "super.users=User:$admin_user"
    echo "listener.name.internal.scram-sha-512.sasl.jaas.config=$scram username=\"$admin_user\" password=\"$password\";"
    echo "listener.name.external.scram-sha-512.sasl.jaas.config=$scram;"
    echo "listener.name.controller.plain.sasl.jaas.config=$plain username=\"$admin_user\" password=\"$password\" user_$admin_user=\"$password\";"
} >"$config"

# Client settings for the healthcheck and for an operator's `docker compose exec kafka ...`.
{
    echo "security.protocol=SASL_PLAINTEXT"
    echo "sasl.mechanism=SCRAM-SHA-512"
    echo "sasl.jaas.config=$scram username=\"$admin_user\" password=\"$password\";"
} >"$runtime/admin.properties"

if [ ! -f "$data/meta.properties" ]; then
    echo "start-kafka: formatting $data for cluster $KAFKA_CLUSTER_ID (admin: $admin_user)"
    "$kafka_home/bin/kafka-storage.sh" format --config "$config" --cluster-id "$KAFKA_CLUSTER_ID" \
        --add-scram "SCRAM-SHA-512=[name=$admin_user,password=$password]"
fi

exec "$kafka_home/bin/kafka-server-start.sh" "$config"
