;; A plugin that recurses until the wasm call stack overflows.
(module
  (func $down (export "recurse") (result i32)
    (call $down)
    (i32.add (i32.const 1))))
