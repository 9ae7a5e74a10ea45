"""Regional innovation-ecosystem simulator (Chongqing, Liangping district)."""

import os

from numpy._core import multiarray

# numpy asks Linux for transparent huge pages for every large array. Where the kernel compacts
# memory to find them (defrag "madvise"), a 10^6-firm run spent ~1 s more faulting in its firm
# table and the year-0 draw's temporaries (9.5-10.8 s against 8.7-8.9 s with small pages), and
# the firm step gained nothing from the larger pages (docs/benchmarks.md, stop 25). A user's
# own NUMPY_MADVISE_HUGEPAGE is kept.
if "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
    multiarray._set_madvise_hugepage(False)
