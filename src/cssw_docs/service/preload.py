"""What the workers' fork server loads before it forks any worker (``watch._worker_context``).

Importing this module imports the pipeline and reads and compiles the standard Word templates,
once, in the fork server. Every worker is forked from it, so each starts with them in memory
(shared, not copied): a worker costs no template compilation, including the fresh one that
replaces a worker after ``service.worker_max_jobs`` jobs. A council's own templates folder
(``render.templates_dir``) is still prepared by each worker (``worker.warm_up``).
"""

from __future__ import annotations

from . import worker

worker.warm_up()
