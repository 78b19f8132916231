#!/bin/sh
# The compose `certs` one-shot (alpine): a private CA and the server certificates signed by it.
#   /private          the CA key (this container only)
#   /out/ca           ca.pem: what clients verify against (mounted in every service)
#   /out/nats         server.pem, server-key.pem, ca.pem for nats-1..3 (infra/nats/nats.conf)
#   /out/kurrentdb    node.crt, node.key, ca/ca.crt for KurrentDB
# Idempotent: files that exist are kept, so a restart does not invalidate what clients trust.
# To rotate, remove the volumes (docker compose down -v removes the data too).
set -eu
command -v openssl >/dev/null || apk add --no-cache openssl >/dev/null
umask 077
days=825

if [ ! -f /private/ca-key.pem ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=Tessera compose CA" \
    -keyout /private/ca-key.pem -out /private/ca.pem
fi

# server <dir> <cert> <key> <common name> <subjectAltName>
server() {
  dir=$1 cert=$2 key=$3 cn=$4 san=$5
  [ -f "$dir/$cert" ] && [ -f "$dir/$key" ] && return 0
  openssl req -newkey rsa:3072 -nodes -subj "/CN=$cn" -keyout "$dir/$key" -out /private/req.csr
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" > /private/ext.cnf
  openssl x509 -req -in /private/req.csr -CA /private/ca.pem -CAkey /private/ca-key.pem \
    -CAcreateserial -days "$days" -extfile /private/ext.cnf -out "$dir/$cert"
  rm -f /private/req.csr /private/ext.cnf
}

# The NATS names: clients verify the host they dial (nats-1..3), routes too.
server /out/nats server.pem server-key.pem nats DNS:nats-1,DNS:nats-2,DNS:nats-3,DNS:localhost,IP:127.0.0.1
server /out/kurrentdb node.crt node.key kurrentdb DNS:kurrentdb,DNS:localhost,IP:127.0.0.1
mkdir -p /out/kurrentdb/ca

cp /private/ca.pem /out/ca/ca.pem
cp /private/ca.pem /out/nats/ca.pem
cp /private/ca.pem /out/kurrentdb/ca/ca.crt
# Certificates are public; the nats image runs as root, KurrentDB as uid 1000 (its key is its own).
chmod 0644 /out/ca/ca.pem /out/nats/ca.pem /out/nats/server.pem /out/kurrentdb/ca/ca.crt /out/kurrentdb/node.crt
chmod 0755 /out/ca /out/nats /out/kurrentdb /out/kurrentdb/ca
chmod 0600 /out/nats/server-key.pem /out/kurrentdb/node.key
chown 1000:1000 /out/kurrentdb/node.key
echo "certificates ready"
