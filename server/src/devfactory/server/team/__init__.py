"""Team mode's workers: ``devfactory worker`` executes runs as procrastinate jobs, each run
under a lease whose epoch fences a worker that lost it (:mod:`.segments`, :mod:`.worker`)."""
