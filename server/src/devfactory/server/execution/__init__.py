"""Command execution: one policy, one executor, every command recorded (docs/security.md).

``service.CommandService`` is the entry point; the modules around it each do one step:
``shellsyntax`` reads the command line, ``blocklist`` and ``pathguard`` refuse what no policy
may allow, ``policy``/``defaults`` hold the allowlist, ``verdict`` decides, ``environment``
scrubs variables, ``sandbox`` (bubblewrap) and ``cgroups`` confine, ``processes`` starts and
kills, ``output`` streams and stores output, ``testresults`` reads test counts and ``report``
writes what the model sees.
"""
