"""Two TLS connections with Python's ssl module, the second offering the first's session.

Usage: connect_twice.py PORT VERSION SERVER_NAME   (VERSION: 1.2 or 1.3)
Prints both raw HTTP responses, one after the other, on stdout. Reads each response until the
server closes (Connection: close), so a TLS 1.3 ticket sent after the handshake has arrived before
the session is taken.
"""

import socket
import ssl
import sys


def main() -> None:
    port, version, server_name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # The test servers present a self-signed certificate; trust is not what is measured.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    pinned = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    context.minimum_version = pinned
    context.maximum_version = pinned
    session = None
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=server_name, session=session) as tls:
                request = f"GET / HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n"
                tls.sendall(request.encode())
                response = b""
                while True:
                    try:
                        chunk = tls.recv(4096)
                    except ssl.SSLEOFError:
                        break
                    if not chunk:
                        break
                    response += chunk
                sys.stdout.write(response.decode() + "\n")
                session = tls.session


if __name__ == "__main__":
    main()
