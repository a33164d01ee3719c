; Module names a file imports: `import a.b`, `import a.b as c`,
; `from a.b import x`, `from . import x`, `from .m import x`.
(import_statement
  name: [(dotted_name) @import.module
         (aliased_import name: (dotted_name) @import.module)])
(import_from_statement
  module_name: [(dotted_name) @import.from
                (relative_import) @import.from])
