from gensidig.cli import main

main()
