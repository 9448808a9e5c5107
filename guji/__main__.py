from guji.cli import main

main()
