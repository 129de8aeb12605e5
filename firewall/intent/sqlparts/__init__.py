"""Parts of the SQL classifier: text preparation, catalogues, the tree walk, commands."""
