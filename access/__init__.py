"""The permission layer at the bottom of the house (DESIGN §3, §4).

Every app imports it; it imports no app. It holds the role → codename table
(:mod:`access.roles`), the codename constants (:mod:`access.codenames`) and the named checks and
visibility building blocks (:mod:`access.checks`), which work on the object-permission rows
through the user's reverse relations, never by importing a model.
"""
