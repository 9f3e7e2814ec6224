"""Stand-ins of the `aws`, `terraform` and `docker` CLIs for tests/test_aws_scripts.py.

Each records its argv (JSONL, in call order) and plays the part of AWS the deploy scripts meet:
EMR Serverless application and job-run states, the provider refusing to update or delete a
started application, immutable ECR tags. Their shared state is one JSON file (world.py).
"""
