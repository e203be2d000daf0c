"""Entry point of the serving process: Lambda's `handler` and, under `python app.py`, a local waitress
server. The price API is built by the serving issue; until a bundle can be trained this entry point only
says so, with a non-zero exit, rather than serving something that looks like an answer."""

import sys


def main() -> int:
    print("the price API is not built yet: run `make run` for the data pipeline", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
