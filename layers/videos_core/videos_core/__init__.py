"""The shared layer of the Videos API functions: contract models, domain logic and AWS adapters."""

# The service's version, as pyproject.toml says it (a test keeps them agreeing): the claim generator's
# version in the C2PA manifests signed into every stored file.
VERSION = "0.1.0"
