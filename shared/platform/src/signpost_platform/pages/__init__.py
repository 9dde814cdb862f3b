"""The pages people use, on the services that serve them: one NHS.UK layout, the pinned front-end
assets served by the service itself, and sign-in (docs/pages.md).

- `assets`: the pinned npm packages (NHS.UK frontend, LHC-Forms), installed once into a folder;
- `layout`: the NHS.UK page template, with the content security policy every page is sent with;
- `routes`: the shared routes (assets, the pages' scripts, the development sign-in).
"""
