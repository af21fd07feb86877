"""Interop with other harnesses: a Harbor environment (`mac.interop.harbor:BwrapEnvironment`) and an Inspect AI
sandbox plugin (`mac-bwrap`, registered through the `inspect_ai` entry point). Each imports its harness, so it
loads only where that harness is installed (Python >= 3.12 for Harbor)."""
