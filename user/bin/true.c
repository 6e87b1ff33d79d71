/* true: exits with status 0 at once and prints nothing (spawn churn tests). */
int main(void)
{
	return 0;
}
