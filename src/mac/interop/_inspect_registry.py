"""The `inspect_ai` entry point: importing it registers the `mac-bwrap` sandbox with Inspect AI."""

from mac.interop.inspect_sandbox import MacBwrapSandbox  # noqa: F401  (registration by decorator)
