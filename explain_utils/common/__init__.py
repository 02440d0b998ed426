"""What every layer shares: the names the package agrees on (levels, tasks, profiles, loss modes),
checks of user-facing parameters whose errors name the parameter and the allowed values, atomic
file writes, and progress bars that stay quiet in papermill runs. Imports nothing of the package.
"""
