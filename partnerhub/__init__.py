"""Partner Hub's composition root: settings, the ``partnerhub`` CLI and the local stack runner."""
