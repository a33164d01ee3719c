; Functions registered with a Chalice app or blueprint by a decorator call,
; e.g. @app.route('/'), @bp.on_sqs_message(queue='q'), @app.lambda_function().
; @decorator.kind is the decorator's attribute name; @handler.name the def's name.
(decorated_definition
  (decorator
    (call
      function: (attribute
        object: (_) @decorator.object
        attribute: (identifier) @decorator.kind)))
  definition: (function_definition
    name: (identifier) @handler.name)) @handler
