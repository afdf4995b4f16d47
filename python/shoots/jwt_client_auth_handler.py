"""The original client's Handshake: the token as payload (kept as it was)."""

from pyarrow.flight import ClientAuthHandler


class JWTClientAuthHandler(ClientAuthHandler):
    """Sends ``token`` at Handshake; pyarrow then sends what the daemon
    answers (the same token) as ``auth-token-bin`` on every call."""

    def __init__(self, token):
        super().__init__()
        self.token = token

    def authenticate(self, outgoing, incoming):
        outgoing.write(self.token)

    def get_token(self):
        return self.token
