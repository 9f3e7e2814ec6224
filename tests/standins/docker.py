"""Stand-in of the `docker` CLI: login, build and push into immutable ECR repositories."""

from __future__ import annotations

import sys

from tests.standins.world import fail, recorded, world


def repo_and_tag(ref: str) -> tuple[str, str]:
    """`123.dkr.ecr.us-east-1.amazonaws.com/prefix/app:TAG` -> (`prefix/app`, `TAG`)."""
    path, _, tag = ref.rpartition(":")
    return path.split("/", 1)[1], tag


def call(argv: list[str]) -> int:
    if not argv:
        return fail("usage: docker <command>")
    command, rest = argv[0], argv[1:]
    if command == "login":
        if "--password-stdin" in rest and not sys.stdin.read().strip():
            return fail("Error: Cannot perform an interactive login from a non TTY device")
        print("Login Succeeded")
        return 0
    with world() as w:
        if command == "build":
            tag = rest[rest.index("-t") + 1]
            w["local_images"].append(tag)
            return 0
        if command == "push":
            ref = rest[0]
            if ref not in w["local_images"]:
                return fail(f"An image does not exist locally with the tag: {ref}")
            repo, tag = repo_and_tag(ref)
            if tag in w["images"].setdefault(repo, []):
                return fail(
                    f"tag invalid: The image tag '{tag}' already exists in the '{repo}' "
                    "repository and cannot be overwritten because the repository is immutable."
                )
            w["images"][repo].append(tag)
            return 0
    return fail(f"stand-in: docker {command} is not played")


def main(argv: list[str]) -> int:
    return recorded("docker", call, argv)
