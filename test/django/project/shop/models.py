"""The shop app's model, as it stands once every safe migration of the test
has run.  The migrations are written by hand (shop/migrations/0001_initial.py,
then the files test/django/steps/ that the test adds one at a time); nothing
runs makemigrations."""
from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=20, db_index=True)
    created_at = models.DateTimeField()
    total = models.IntegerField()
    coupon = models.CharField(max_length=20, null=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="shop_order_created_idx")]
