"""The playground: a web page on `serve` that drives the public API from a browser."""
