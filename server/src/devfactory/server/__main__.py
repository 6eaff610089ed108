from devfactory.server.cli.entry import main

# Guarded: worker processes (spawned for indexing) import this module without running the CLI.
if __name__ == "__main__":
    main()
