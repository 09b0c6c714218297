;; The wasm2o demo module: a few functions a C host calls through the header
;; that `wasm2o compile --header` writes (see host.c next to this file).
;;
;; Memory layout (one 64 KiB page):
;;   16..39    the greeting template (data segment)
;;   256..     where `greet` writes the greeting it logs
;;   4096..    free for the host (host.c puts text there for `shout`)
(module
  ;; Supplied by the host: prints `len` bytes of memory starting at `ptr`.
  (import "env" "log" (func $log (param $ptr i32) (param $len i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "Hello from WebAssembly!")

  ;; [i32 i32] -> [i32]: wrapping addition.
  (func $add (export "add") (param $a i32) (param $b i32) (result i32)
    (i32.add (local.get $a) (local.get $b)))

  ;; [f64 f64] -> [f64]: the mean of two numbers.
  (func $mean (export "mean") (param $a f64) (param $b f64) (result f64)
    (f64.div (f64.add (local.get $a) (local.get $b)) (f64.const 2)))

  ;; [] -> [i32]: copies the greeting template to address 256, byte by
  ;; byte, has the host log it, and returns its length.
  (func $greet (export "greet") (result i32)
    (local $i i32)
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (i32.const 23)))
        (i32.store8 offset=256 (local.get $i)
          (i32.load8_u offset=16 (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (call $log (i32.const 256) (i32.const 23))
    (i32.const 23))

  ;; [i32 i32] -> [i32]: upper-cases the ASCII letters of the `len` bytes at
  ;; `ptr` in place and returns how many it changed.
  (func $shout (export "shout") (param $ptr i32) (param $len i32) (result i32)
    (local $end i32) (local $c i32) (local $changed i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $ptr)))
        ;; 'a' <= c <= 'z', as one unsigned compare: c - 'a' < 26
        (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26))
          (then
            (i32.store8 (local.get $ptr) (i32.sub (local.get $c) (i32.const 32)))
            (local.set $changed (i32.add (local.get $changed) (i32.const 1)))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (br $each)))
    (local.get $changed))

  ;; [i32 i32] -> [i32]: signed division; traps on a zero divisor.
  (func $divide (export "divide") (param $a i32) (param $b i32) (result i32)
    (i32.div_s (local.get $a) (local.get $b)))

  ;; [i32] -> [i32]: loads the 32-bit word at `addr`; traps past the end of
  ;; memory (the hardware catches it: there is no bounds check in the code).
  (func $peek (export "peek") (param $addr i32) (result i32)
    (i32.load (local.get $addr))))
