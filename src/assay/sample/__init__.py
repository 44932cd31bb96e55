"""The bundled sample organisation: Acme Cloud, about 60 people, with planted problems.

Files are written in each vendor's own format (an HR roster CSV, Okta API responses, an AWS IAM
credential report, GitHub API responses, a real git repository), with dates relative to the day
they are written, so the sample never goes stale. ``write_sample`` returns every planted problem
(and writes them to ``planted-problems.json``): a run on the sample must report exactly these.
"""

from assay.sample.organisation import PlantedFinding, write_sample

__all__ = ["PlantedFinding", "write_sample"]
