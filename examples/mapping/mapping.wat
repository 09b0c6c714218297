;; The wasm2o mapping example: the guest side of examples/mapping/host.c.
;;
;; Two memories:
;;   memory 0 "data"   16 pages (1 MiB), plain. The host maps a read-only
;;                     file into it; `sum` reads the numbers in place.
;;   memory 1 "arena"  64 pages (4 MiB), virtual: every page starts
;;                     unmapped. `arena_alloc` maps pages with the
;;                     memory-control import map@1, `arena_reset` gives them
;;                     all back with unmap@1.
(module
  ;; Served by the runtime, not the host (the generated header leaves them
  ;; out). `@1` names memory 1; its index type is i32, so are addr and size.
  (import "memory-control" "map@1" (func $map (param i32 i32 i32) (result i32)))   ;; addr size prot -> addr | -1
  (import "memory-control" "unmap@1" (func $unmap (param i32 i32)))                ;; addr size

  (memory $data (export "data") 16)
  ;; A virtual memory needs min == max: it is reserved whole, never moves.
  (memory $arena (export "arena") 64 64)
  (@custom "memory-control" "memory 1 virtual")

  ;; The arena's bump pointer: everything below it is mapped read-write.
  (global $next (mut i32) (i32.const 0))

  ;; [i32 i32] -> [i64]: the sum of `count` little-endian u32 numbers at
  ;; `addr` of memory 0 (wherever the host put them, mapped file included).
  (func (export "sum") (param $addr i32) (param $count i32) (result i64)
    (local $total i64)
    (block $done
      (loop $each
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $total
          (i64.add (local.get $total) (i64.load32_u $data (local.get $addr))))
        (local.set $addr (i32.add (local.get $addr) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $each)))
    (local.get $total))

  ;; [i32 i32] -> []: stores a u32 in memory 0 (traps on read-only pages).
  (func (export "poke") (param $addr i32) (param $value i32)
    (i32.store $data (local.get $addr) (local.get $value)))

  ;; [i32] -> [i32]: maps `pages` fresh zeroed read-write pages at the bump
  ;; pointer and returns their address, or -1 when they do not fit (or the
  ;; runtime refuses: map@1 itself returns -1 then).
  (func (export "arena_alloc") (param $pages i32) (result i32)
    (local $size i32) (local $addr i32)
    ;; 0 pages would trap "zero size"; more than the arena, wrap around.
    (if (i32.or (i32.le_s (local.get $pages) (i32.const 0))
                (i32.gt_u (local.get $pages)
                          (i32.sub (memory.size $arena)
                                   (i32.shr_u (global.get $next) (i32.const 16)))))
      (then (return (i32.const -1))))
    (local.set $size (i32.shl (local.get $pages) (i32.const 16)))
    (local.set $addr (call $map (global.get $next) (local.get $size) (i32.const 3)))
    (if (i32.eq (local.get $addr) (i32.const -1))
      (then (return (i32.const -1))))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $addr))

  ;; [] -> []: unmaps everything allocated (one call: one run of pages), so
  ;; its memory goes back to the system and touching it traps.
  (func (export "arena_reset")
    (if (global.get $next)
      (then (call $unmap (i32.const 0) (global.get $next))))
    (global.set $next (i32.const 0)))

  ;; [i32 i32 i32 i32] -> []: writes `count` u32s seed, seed+step, ... at `addr`
  ;; of the arena.
  (func (export "arena_fill") (param $addr i32) (param $count i32) (param $seed i32) (param $step i32)
    (block $done
      (loop $each
        (br_if $done (i32.eqz (local.get $count)))
        (i32.store $arena (local.get $addr) (local.get $seed))
        (local.set $seed (i32.add (local.get $seed) (local.get $step)))
        (local.set $addr (i32.add (local.get $addr) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $each))))

  ;; [i32 i32] -> [i64]: the sum of `count` u32s at `addr` of the arena.
  (func (export "arena_sum") (param $addr i32) (param $count i32) (result i64)
    (local $total i64)
    (block $done
      (loop $each
        (br_if $done (i32.eqz (local.get $count)))
        (local.set $total
          (i64.add (local.get $total) (i64.load32_u $arena (local.get $addr))))
        (local.set $addr (i32.add (local.get $addr) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $each)))
    (local.get $total)))
