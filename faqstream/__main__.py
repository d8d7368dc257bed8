from faqstream.cli import main

raise SystemExit(main())
