UPDATE shop.orders o SET o.a = 1 WHERE o.id IN (1, 2) LIMIT 1;
DELETE FROM `orders` AS x WHERE x.id < 3;
update orders set a = (select 1 from items limit 1) where b = 2 order by id;
