"""Code that runs inside the child process: the only place that imports torch and friends."""
