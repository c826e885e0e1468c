;; badprewarm's prewarm export traps: the plugin cannot be readied.
(module
  (func (export "prewarm") (result i32) unreachable)
  (func (export "invoke") (result i32) (i32.const 0)))
