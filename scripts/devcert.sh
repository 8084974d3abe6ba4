#!/bin/sh
# Make a throw-away CA and a TLS server certificate for 127.0.0.1 (and
# "localhost") to try sipwall's TLS listener locally; also a client
# certificate from the same CA, for mutual TLS.  Never for production:
# the CA key sits next to what it signed.
#
#   scripts/devcert.sh [DIR]      # default var/tls; refuses to overwrite
#
# Then uncomment the tls listener in examples/sipwall.yaml and try:
#   openssl s_client -connect 127.0.0.1:5061 -CAfile var/tls/ca.pem
set -eu

dir=${1:-var/tls}
days=30

if [ -e "$dir/server.pem" ]; then
	echo "devcert: $dir/server.pem exists; remove $dir to make new ones" >&2
	exit 1
fi
command -v openssl >/dev/null || { echo "devcert: needs openssl" >&2; exit 1; }
mkdir -p "$dir"
umask 077
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days "$days" \
    -subj "/CN=sipwall development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"

sign() {	# name subject extensions
	key "$1.key"
	openssl req -new -key "$1.key" -out "$1.csr" -subj "$2"
	printf '%s\n' "$3" > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days "$days" -out "$1.pem" -extfile "$1.ext" \
	    2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

sign server "/CN=127.0.0.1" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost"
sign client "/CN=sipwall development client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
chmod 644 ca.pem server.pem client.pem
echo "devcert: $dir/{ca,server,client}.pem and keys, valid $days days"
