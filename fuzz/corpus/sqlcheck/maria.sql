UPDATE orders SET a = 'x''y' WHERE id = 1; DELETE o FROM orders o JOIN `it``ems` i; SELECT * FROM a INTO OUTFILE '/x' # c
