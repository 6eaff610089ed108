from devfactory.server.cli.main import main

main()
