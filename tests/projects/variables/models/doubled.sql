SELECT n * 2 AS n FROM {{ ref "numbers" }}
