{#- The rows of a long mart for the page's "slice" dropdown: the 'all' rows, or one slice. -#}
{% if inputs.slice.is_all %}dimension = 'all'{% else %}dimension || ':' || dimension_value = {{ inputs.slice.value | sql }}{% endif %}
