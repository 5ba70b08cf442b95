from gsmreport.cli import main

main()
