"""MAC's stand-in for the `harbor` package inside an agentic artifact's sandbox: the agent and environment
interfaces only. `environment.exec(...)` travels to the controller, which runs it in the task environment."""
