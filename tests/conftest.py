"""Session-wide test settings.

One torch thread per test process: the suite's batches are small, and on the 2-core CI
machine a second thread competing with other work slows them many-fold.
"""

import torch

torch.set_num_threads(1)
