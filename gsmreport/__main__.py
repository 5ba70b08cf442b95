from gsmreport.cli.app import main

main()
