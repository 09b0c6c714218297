;; Defines the shared virtual memory of the churn test (churn.c): 16 pages,
;; every page unmapped but those the data segments touch, which map them
;; read-write: page 0 (counters, epoch cells) and page 12 (stamps).
(module
  (memory (export "memory") 16 16 shared)
  (@custom "memory-control" "memory 0 virtual")
  (data (i32.const 0x0) "\00")
  (data (i32.const 0xc0000) "\00"))
