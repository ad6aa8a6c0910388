"""The shared layer of the Videos API functions: contract models, domain logic and AWS adapters."""
