#!/bin/sh
# HEALTHCHECK of shipyard's images: the CLI starts, imports its configuration
# code and answers. Exit 0 is healthy; anything else is printed for `docker inspect`.
set -e
shipyard --version
