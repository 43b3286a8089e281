from training_jobs.cli import main

raise SystemExit(main())
