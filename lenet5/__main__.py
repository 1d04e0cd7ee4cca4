from lenet5.cli import main

raise SystemExit(main())
