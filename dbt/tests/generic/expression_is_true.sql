{#- Fails with the rows for which `expression` is false (NULL passes: a figure that is not
    there cannot break a rule about its size). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
