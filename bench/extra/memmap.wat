;; For the map/protect/unmap measurement (memmap.c): one virtual memory of
;; 1100 pages (1 page of head room + the 1024 mapped at most, rounded up),
;; and a loop that drives the guest-side imports.
(module
  (import "memory-control" "map" (func $map (param i32 i32 i32) (result i32)))
  (import "memory-control" "unmap" (func $unmap (param i32 i32)))
  (import "memory-control" "protect" (func $protect (param i32 i32 i32)))
  (memory (export "memory") 1100 1100)
  (@custom "memory-control" "memory 0 virtual")
  ;; n times: map [addr, addr+size) read-write, protect it read, then
  ;; read-write, unmap it. Returns 0, or -1 if a map failed.
  (func (export "cycle") (param $addr i32) (param $size i32) (param $n i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.ne (call $map (local.get $addr) (local.get $size) (i32.const 3)) (local.get $addr))
          (then (return (i32.const -1))))
        (call $protect (local.get $addr) (local.get $size) (i32.const 1))
        (call $protect (local.get $addr) (local.get $size) (i32.const 3))
        (call $unmap (local.get $addr) (local.get $size))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))
)
