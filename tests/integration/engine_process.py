"""How the tests run the engine: a short job latency and a known webhook secret."""

WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LATENCY = 1.0
