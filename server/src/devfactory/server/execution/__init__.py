"""Command execution: one policy, one executor, every command recorded (docs/security.md).

``service.CommandService`` is the entry point; the modules around it each do one step:
``shellsyntax`` reads the command line, ``blocklist`` and ``pathguard`` refuse what no policy
may allow, ``policy``/``defaults`` hold the allowlist, ``runscode`` knows what runs code (safe
mode refuses it), ``verdict`` decides, ``consent`` asks before code runs without the sandbox,
``environment`` scrubs variables, ``sandbox`` (bubblewrap) and ``cgroups`` confine,
``processes`` starts and kills, ``output`` copies, caps and streams output, ``testresults``
reads test counts and ``report`` writes what the model sees.
"""
