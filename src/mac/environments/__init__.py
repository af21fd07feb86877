"""Task environments: container images run under bubblewrap (or podman/docker), see mac.environments.base."""
